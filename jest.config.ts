import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 60_000,
  // Two workers even on 2 cores (jest's default there is 1, i.e. in band): many suites mostly wait
  // on child processes, ganache or disk, so two files at a time overlap that wait with work.
  maxWorkers: 2,
};

export default config;
