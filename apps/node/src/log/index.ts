export { type FormatOptions, formatLine } from './format';
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  type LogMode,
  type NodeLogger,
  REDACT_PATHS,
  silentLogger,
} from './logger';
export { listLogFiles, type RotatingFileOptions, RotatingFileStream } from './rotating-file';
