import { describe, expect, it } from 'vitest';
import { formatMetrics, formatValue } from './exposition';

describe('Prometheus text exposition', () => {
  it('writes HELP, TYPE and one line per sample, ending with a newline', () => {
    const text = formatMetrics([
      { name: 'a_total', help: 'A count.', type: 'counter', samples: [{ value: 3 }] },
      {
        name: 'b',
        help: 'B by side.',
        type: 'gauge',
        samples: [
          { labels: { side: 'a' }, value: 1.5 },
          { labels: { side: 'b', x: 'y' }, value: 0 },
        ],
      },
    ]);
    expect(text).toBe(
      [
        '# HELP a_total A count.',
        '# TYPE a_total counter',
        'a_total 3',
        '# HELP b B by side.',
        '# TYPE b gauge',
        'b{side="a"} 1.5',
        'b{side="b",x="y"} 0',
        '',
      ].join('\n'),
    );
  });

  it('escapes backslashes, quotes and newlines in label values and help', () => {
    const text = formatMetrics([
      {
        name: 'c',
        help: 'line\\one\ntwo',
        type: 'gauge',
        samples: [{ labels: { route: 'a"b\\c\nd' }, value: 1 }],
      },
    ]);
    expect(text).toContain('# HELP c line\\\\one\\ntwo\n');
    expect(text).toContain('c{route="a\\"b\\\\c\\nd"} 1\n');
  });

  it('writes histogram suffixes and special values', () => {
    const text = formatMetrics([
      {
        name: 'h_seconds',
        help: 'H.',
        type: 'histogram',
        samples: [
          { suffix: '_bucket', labels: { le: '+Inf' }, value: 2 },
          { suffix: '_sum', value: 0.25 },
          { suffix: '_count', value: 2 },
        ],
      },
    ]);
    expect(text).toContain('h_seconds_bucket{le="+Inf"} 2\nh_seconds_sum 0.25\nh_seconds_count 2\n');
    expect(formatValue(Number.NaN)).toBe('NaN');
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('+Inf');
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe('-Inf');
  });

  it('refuses bad metric and label names and a family given twice', () => {
    const family = (name: string, label = 'ok') => ({
      name,
      help: 'x',
      type: 'gauge' as const,
      samples: [{ labels: { [label]: 'v' }, value: 1 }],
    });
    expect(() => formatMetrics([family('1bad')])).toThrow(/metric name/);
    expect(() => formatMetrics([family('good', 'bad-label')])).toThrow(/label name/);
    expect(() => formatMetrics([family('good', '__reserved')])).toThrow(/label name/);
    expect(() => formatMetrics([family('same'), family('same')])).toThrow(/twice/);
  });
});
