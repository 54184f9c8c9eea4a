import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The cloud serves the API and the web build on one origin; in development Vite forwards to it. */
const cloud = 'http://localhost:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': cloud,
      '/healthz': cloud,
      '/readyz': cloud,
      '/ws': { target: cloud, ws: true },
    },
  },
});
