#!/usr/bin/env node
// Prints, as JSON on stdout, every GraphQL operation document the official Node SDK
// (@criipto/signatures) can send: [{package, name, operation, type, document}].
// schema/schema_test.go validates each one against our schema, so the SDK is the oracle for
// compatibility rather than our reading of its docs.
//
// It fails (exit 1) when the SDK is missing, has another version than the one pinned in
// tools/package.json, or yields fewer operations than counted by hand: a silent drop to zero
// operations would make the schema test pass while proving nothing.
'use strict';

const path = require('node:path');

const SDK = '@criipto/signatures';
const PINNED_VERSION = '1.35.1';

// Counted by hand in @criipto/signatures 1.35.1 (exports named *Document in each dist/*-types.js).
const MINIMUM = {
  'application-viewer': 18,
  'signatory-viewer': 6,
};

function fail(message) {
  process.stderr.write(`extract-operations: ${message}\n`);
  process.exit(1);
}

function sdkDir() {
  try {
    return path.dirname(require.resolve(`${SDK}/package.json`, { paths: [__dirname] }));
  } catch (err) {
    fail(`${SDK} is not installed in ${__dirname}/node_modules: run \`make tools\` (${err.message})`);
  }
}

function main() {
  const dir = sdkDir();
  const version = require(path.join(dir, 'package.json')).version;
  if (version !== PINNED_VERSION) {
    fail(`${SDK} is ${version}, expected ${PINNED_VERSION}: recount MINIMUM for the new version`);
  }
  // The SDK's own copies, so printing matches what the SDK sends on the wire.
  const { print } = require(require.resolve('graphql', { paths: [dir] }));
  const gqlTag = require(require.resolve('graphql-tag', { paths: [dir] }));
  // Both packages define a fragment named BasicDocument (with different bodies); graphql-tag warns
  // about that on stderr, which is noise here: each operation carries its own fragment copy.
  if (typeof gqlTag.disableFragmentWarnings === 'function') gqlTag.disableFragmentWarnings();

  const out = [];
  for (const pkg of Object.keys(MINIMUM)) {
    const mod = require(path.join(dir, 'dist', `${pkg}-types.js`));
    let count = 0;
    for (const [name, value] of Object.entries(mod)) {
      if (!name.endsWith('Document')) continue;
      if (!value || value.kind !== 'Document' || !Array.isArray(value.definitions)) {
        fail(`${pkg}.${name} is not a graphql DocumentNode`);
      }
      const ops = value.definitions.filter(d => d.kind === 'OperationDefinition');
      if (ops.length !== 1) {
        fail(`${pkg}.${name} has ${ops.length} operations, expected exactly 1`);
      }
      const op = ops[0];
      out.push({
        package: pkg,
        name,
        operation: op.name ? op.name.value : '',
        type: op.operation,
        document: print(value),
      });
      count++;
    }
    if (count < MINIMUM[pkg]) {
      fail(`${pkg}: found ${count} operation documents, expected at least ${MINIMUM[pkg]}`);
    }
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main();
