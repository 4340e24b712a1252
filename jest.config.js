/** @type {import('jest').Config} */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // Type errors are caught once by `tsc --noEmit` in `npm test`; ts-jest only transpiles
  // (isolatedModules in tsconfig.json makes it transpile file by file).
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  testTimeout: 30000,
  // The engine tests' gRPC channels can outlive the run by a few seconds; never let them hold CI.
  // Daemons the tests start are separate processes, stopped by each suite's cleanup.
  forceExit: true,
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
};
