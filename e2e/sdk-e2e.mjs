// End-to-end client: drives a running server with the OFFICIAL Node SDK (@criipto/signatures, pinned
// in tools/package.json) exactly as an integrator does, so the server is judged by the real client's
// parsing (Blob -> Buffer, error messages, fragments on interfaces) and not by our reading of it.
//
//   ESIGN_ENDPOINT=http://127.0.0.1:8080/v1/graphql ESIGN_CLIENT_ID=... ESIGN_CLIENT_SECRET=... \
//   [ESIGN_READONLY_CLIENT_ID=... ESIGN_READONLY_CLIENT_SECRET=...] node --test e2e/sdk-e2e.mjs
//
// The steps run in order and share state; a step whose input an earlier step failed to produce is
// skipped with the reason, so the first failure is the one to read. Exit status is non-zero on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';

// Resolve packages from tools/node_modules, where `make tools` installs them.
const require = createRequire(new URL('../tools/package.json', import.meta.url));
// The SDK's two halves both define a fragment named BasicDocument; graphql-tag's warning about it
// is noise in the test output.
require(require.resolve('graphql-tag', { paths: [require.resolve('@criipto/signatures')] })).disableFragmentWarnings();
const { CriiptoSignatures } = require('@criipto/signatures');
const { PDFDocument, StandardFonts } = require('pdf-lib');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

const endpoint = env('ESIGN_ENDPOINT');
const origin = new URL(endpoint).origin;
const client = new CriiptoSignatures(env('ESIGN_CLIENT_ID'), env('ESIGN_CLIENT_SECRET'), { endpoint });
const readOnly = process.env.ESIGN_READONLY_CLIENT_ID
  ? new CriiptoSignatures(process.env.ESIGN_READONLY_CLIENT_ID, process.env.ESIGN_READONLY_CLIENT_SECRET ?? '', { endpoint })
  : null;

// graphql-request, configured by the SDK (auth header, Blob-aware JSON), for what the SDK's own
// methods do not select: cursors, pageInfo, totalCount, blobs after cancel/cleanup, ui, webhook.
const raw = (query, variables) => client.client.request(query, variables);

const run = randomUUID().slice(0, 8); // tells this run's orders apart on a shared server
const DAY = 24 * 60 * 60 * 1000;
const STEP_TIMEOUT = 60_000;
const state = {};

// step is a sequential test whose body runs only when the state it needs exists.
function step(name, needs, fn) {
  test(name, { timeout: STEP_TIMEOUT }, async t => {
    const missing = needs.filter(k => state[k] === undefined);
    if (missing.length > 0) {
      t.skip(`needs ${missing.join(', ')} from an earlier step that failed`);
      return;
    }
    await fn(t);
  });
}

async function makePdf(title, lines, opts = {}) {
  const doc = await PDFDocument.create();
  doc.setTitle(title);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([595, 842]); // A4 in points
  page.drawText(title, { x: 50, y: 780, size: 20, font });
  lines.forEach((line, i) => page.drawText(line, { x: 50, y: 740 - i * 18, size: 12, font }));
  return Buffer.from(await doc.save(opts));
}

// graphqlError asserts that fn rejects with a GraphQL error (HTTP 200, errors[]) and returns the
// first error message.
async function graphqlError(fn) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'expected the call to be rejected');
  assert.ok(err.response, `expected a GraphQL error response, got: ${err.message}`);
  assert.equal(err.response.status, 200, 'errors are reported with HTTP 200');
  assert.ok(Array.isArray(err.response.errors) && err.response.errors.length > 0, 'errors[] present');
  const message = err.response.errors[0].message;
  assert.ok(err.message.startsWith(message), 'the SDK error message starts with the GraphQL message');
  return message;
}

function assertBlob(actual, expected, what) {
  assert.ok(Buffer.isBuffer(actual), `${what}: blob must reach the SDK as a Buffer (canonical base64), got ${typeof actual}`);
  assert.ok(actual.equals(expected), `${what}: blob differs from the uploaded bytes (${actual.length} vs ${expected.length} bytes)`);
}

function byId(list, id) {
  const found = list.find(x => x.id === id);
  assert.ok(found, `id ${id} not in [${list.map(x => x.id).join(', ')}]`);
  return found;
}

const DOCUMENT_BLOBS = `
  query documentBlobs($id: ID!) {
    signatureOrder(id: $id) {
      id
      status
      documents { __typename id title blob }
    }
  }`;

step('create a signature order with two PDFs and two signatories', [], async () => {
  const pdfA = await makePdf(`Agreement A ${run}`, ['First document of the SDK end-to-end run.']);
  // The second without object streams: integrators upload PDFs of both kinds.
  const pdfB = await makePdf(`Agreement B ${run}`, ['Second document.', 'Signed by one signatory only.'], { useObjectStreams: false });
  const webhookUrl = `http://127.0.0.1:9/sdk-e2e/${run}`;
  const before = Date.now();
  const order = await client.createSignatureOrder({
    title: `SDK e2e ${run}`,
    maxSignatories: 3,
    expiresInDays: 7,
    evidenceProviders: [{ noop: { name: 'test' } }],
    ui: { language: 'DA_DK' },
    webhook: { url: webhookUrl },
    documents: [
      { pdf: { title: `Agreement A ${run}`, reference: 'doc-a', blob: pdfA, storageMode: 'Temporary' } },
      { pdf: { title: `Agreement B ${run}`, reference: 'doc-b', blob: pdfB, storageMode: 'Temporary' } },
    ],
    signatories: [
      { reference: 'signer-1', signingSequence: 1 },
      { reference: 'signer-2' },
    ],
  });

  assert.equal(typeof order.id, 'string');
  assert.ok(order.id.length > 0, 'order id');
  assert.equal(order.status, 'OPEN');
  assert.equal(order.title, `SDK e2e ${run}`);
  assert.equal(order.maxSignatories, 3);
  assert.equal(order.closedAt, null);
  const expires = Date.parse(order.expiresAt);
  assert.ok(!Number.isNaN(expires), `expiresAt ${order.expiresAt} is ISO-8601`);
  assert.ok(expires >= before + 7 * DAY - 60_000 && expires <= Date.now() + 8 * DAY,
    `expiresAt ${order.expiresAt} is about 7 days from now`);
  assert.equal(typeof order.traceId, 'string');

  assert.equal(order.documents.length, 2);
  for (const doc of order.documents) {
    assert.equal(doc.__typename, 'PdfDocument');
    assert.ok(doc.id, 'document id');
    assert.equal(typeof doc.documentID, 'string');
  }
  assert.deepEqual(order.documents.map(d => [d.title, d.reference]),
    [[`Agreement A ${run}`, 'doc-a'], [`Agreement B ${run}`, 'doc-b']]);
  assert.notEqual(order.documents[0].id, order.documents[1].id);

  assert.equal(order.evidenceProviders.length, 1);
  assert.equal(order.evidenceProviders[0].__typename, 'NoopSignatureEvidenceProvider');
  assert.ok(order.evidenceProviders[0].id, 'evidence provider id');

  assert.equal(order.signatories.length, 2);
  const [s1, s2] = order.signatories;
  assert.deepEqual(order.signatories.map(s => s.reference), ['signer-1', 'signer-2']);
  for (const s of order.signatories) {
    assert.ok(s.id, 'signatory id');
    assert.equal(s.status, 'OPEN');
    assert.ok(s.href.startsWith(origin), `href ${s.href} starts with ${origin}`);
    assert.ok(s.token, 'signatory token');
    assert.equal(s.signatoryRole, 'SIGNER');
    assert.equal(s.signatureOrder.id, order.id);
    assert.equal(s.signatureOrder.status, 'OPEN');
    // No documents list given: the signatory gets all of them.
    assert.equal(s.documents.edges.length, 2);
    assert.ok(s.evidenceProviders.some(p => p.__typename === 'NoopSignatureEvidenceProvider'));
  }
  assert.notEqual(s1.id, s2.id);
  assert.notEqual(s1.token, s2.token);
  assert.equal(s1.signingSequence.initialNumber, 1);
  assert.equal(s2.signingSequence.initialNumber, 2147483647, 'default signingSequence');

  Object.assign(state, { order, pdfA, pdfB, webhookUrl });
});

step('limit the second signatory to one document', ['order'], async () => {
  const { order } = state;
  const [doc] = order.documents;
  const s2 = await client.changeSignatory(order.signatories[1].id, { documents: [{ id: doc.id }] });
  assert.equal(s2.id, order.signatories[1].id);
  assert.equal(s2.reference, 'signer-2', 'fields left out keep their values');
  assert.deepEqual(s2.documents.edges.map(e => e.node.id), [doc.id]);
  assert.equal(s2.documents.edges[0].node.__typename, 'PdfDocument');
  state.limited = s2;
});

step('query the order and the signatories back', ['order', 'limited'], async () => {
  const { order, pdfA, pdfB, webhookUrl } = state;
  const got = await client.querySignatureOrder(order.id, true);
  assert.ok(got, 'order found');
  assert.equal(got.id, order.id);
  assert.equal(got.status, 'OPEN');
  assert.equal(got.title, order.title);
  assert.equal(got.expiresAt, order.expiresAt);
  assert.equal(got.maxSignatories, 3);
  assert.deepEqual(got.signatories.map(s => [s.id, s.reference, s.status, s.token, s.href]),
    order.signatories.map(s => [s.id, s.reference, s.status, s.token, s.href]));
  assert.deepEqual(got.evidenceProviders, order.evidenceProviders);
  assert.deepEqual(got.documents.map(d => [d.__typename, d.id, d.title, d.reference]),
    order.documents.map(d => [d.__typename, d.id, d.title, d.reference]));
  assertBlob(got.documents[0].blob, pdfA, 'open order, document A');
  assertBlob(got.documents[1].blob, pdfB, 'open order, document B');
  for (const d of got.documents) {
    assert.ok(d.signatures == null || d.signatures.length === 0, 'no signatures yet');
  }

  const s2 = await client.querySignatory(order.signatories[1].id);
  assert.ok(s2, 'signatory found');
  assert.equal(s2.id, order.signatories[1].id);
  assert.equal(s2.reference, 'signer-2');
  assert.equal(s2.token, order.signatories[1].token);
  assert.equal(s2.href, order.signatories[1].href);
  assert.equal(s2.signatureOrder.id, order.id);
  assert.deepEqual(s2.documents.edges.map(e => e.node.id), [order.documents[0].id]);

  // What the SDK's fragments do not select.
  const extra = await raw(`
    query extra($id: ID!) {
      signatureOrder(id: $id) { ui { language } webhook { url } createdAt }
    }`, { id: order.id });
  assert.equal(extra.signatureOrder.ui.language, 'DA_DK');
  assert.equal(extra.signatureOrder.webhook.url, webhookUrl);
  assert.ok(!Number.isNaN(Date.parse(extra.signatureOrder.createdAt)), 'createdAt is ISO-8601');

  // Unknown ids are null, not errors.
  assert.equal(await client.querySignatureOrder(`unknown-${run}`), null);
  assert.equal(await client.querySignatory(`unknown-${run}`), null);
});

step('list signature orders page by page', ['order'], async () => {
  const more = [];
  for (let i = 0; i < 3; i++) {
    const pdf = await makePdf(`Listing ${i} ${run}`, [`Order ${i} for the listing test.`]);
    more.push(await client.createSignatureOrder({
      title: `SDK e2e list ${i} ${run}`,
      expiresInDays: 7,
      evidenceProviders: [{ noop: { name: 'test' } }],
      documents: [{ pdf: { title: `Listing ${i} ${run}`, blob: pdf, storageMode: 'Temporary' } }],
    }));
  }
  state.more = more;
  const ours = [state.order.id, ...more.map(o => o.id)];

  // The SDK returns nodes only (no cursors), so walk the pages with the raw client.
  const PAGE = `
    query page($first: Int!, $after: String) {
      viewer {
        __typename
        ... on Application {
          signatureOrders(first: $first, after: $after) {
            totalCount
            pageInfo { hasNextPage endCursor }
            edges { cursor node { id status } }
          }
        }
      }
    }`;
  const seen = [];
  const pages = [];
  let after = null;
  let totalCount = null;
  for (let guard = 0; guard < 1000; guard++) {
    const { viewer } = await raw(PAGE, { first: 2, after });
    assert.equal(viewer.__typename, 'Application');
    const conn = viewer.signatureOrders;
    assert.ok(conn.edges.length <= 2, `page of ${conn.edges.length} > first`);
    if (totalCount === null) totalCount = conn.totalCount;
    assert.equal(conn.totalCount, totalCount, 'totalCount is stable across pages');
    for (const e of conn.edges) {
      assert.equal(typeof e.cursor, 'string');
      seen.push(e.node.id);
    }
    pages.push({ after, ids: conn.edges.map(e => e.node.id), endCursor: conn.pageInfo.endCursor });
    if (!conn.pageInfo.hasNextPage) break;
    assert.ok(conn.edges.length > 0, 'a page with hasNextPage has edges');
    assert.ok(conn.pageInfo.endCursor, 'endCursor when hasNextPage');
    after = conn.pageInfo.endCursor;
  }
  assert.ok(pages.length >= 2, `${seen.length} orders should span at least 2 pages of 2`);
  assert.equal(new Set(seen).size, seen.length, `duplicates in ${seen.join(', ')}`);
  assert.equal(seen.length, totalCount, 'walking all pages yields totalCount orders');
  for (const id of ours) assert.ok(seen.includes(id), `order ${id} listed`);

  // The SDK's own method, with and without `after`, agrees with the raw pages.
  const first = await client.querySignatureOrders({ first: 2 });
  assert.deepEqual(first.map(o => o.id), pages[0].ids);
  const second = await client.querySignatureOrders({ first: 2, after: pages[0].endCursor });
  assert.deepEqual(second.map(o => o.id), pages[1].ids);
  for (const o of [...first, ...second]) {
    assert.ok(o.status, 'BasicSignatureOrder fields present');
    assert.ok(Array.isArray(o.signatories));
  }
});

step('add, change and delete a signatory', ['order'], async () => {
  const { order } = state;
  const [, docB] = order.documents;
  const added = await client.addSignatory(order.id, { reference: 'signer-3', documents: [{ id: docB.id }] });
  assert.ok(added.id);
  assert.equal(added.status, 'OPEN');
  assert.equal(added.reference, 'signer-3');
  assert.ok(added.token);
  assert.ok(added.href.startsWith(origin));
  assert.deepEqual(added.documents.edges.map(e => e.node.id), [docB.id]);
  assert.equal(added.signatureOrder.id, order.id);

  // maxSignatories 3 is reached.
  await graphqlError(() => client.addSignatory(order.id, { reference: 'signer-4' }));

  const changed = await client.changeSignatory(added.id, { reference: 'signer-3b' });
  assert.equal(changed.id, added.id);
  assert.equal(changed.reference, 'signer-3b');
  assert.deepEqual(changed.documents.edges.map(e => e.node.id), [docB.id], 'documents kept');

  const after = await client.deleteSignatory(order.id, added.id);
  assert.equal(after.id, order.id);
  const gone = after.signatories.find(s => s.id === added.id);
  assert.ok(!gone || gone.status === 'DELETED', `deleted signatory is listed as ${gone?.status}`);
  assert.deepEqual(after.signatories.filter(s => s.status === 'OPEN').map(s => s.id),
    order.signatories.map(s => s.id));

  // A deleted signatory frees its place.
  const again = await client.addSignatory(order.id, { reference: 'signer-4' });
  assert.equal(again.status, 'OPEN');
  await client.deleteSignatory(order.id, again.id);
});

step('extend the expiry by exactly 5 days', ['order'], async () => {
  const { order } = state;
  const before = await client.querySignatureOrder(order.id);
  const extended = await client.extendSignatureOrder(order.id, { additionalExpirationInDays: 5 });
  assert.equal(extended.id, order.id);
  assert.equal(extended.status, 'OPEN');
  assert.equal(Date.parse(extended.expiresAt) - Date.parse(before.expiresAt), 5 * DAY,
    `${before.expiresAt} + 5 days = ${extended.expiresAt}`);
  assert.equal(extended.documents.length, 2);
  // 1..30 per call.
  await graphqlError(() => client.extendSignatureOrder(order.id, { additionalExpirationInDays: 31 }));
  await graphqlError(() => client.extendSignatureOrder(order.id, { additionalExpirationInDays: 0 }));
  const unchanged = await client.querySignatureOrder(order.id);
  assert.equal(unchanged.expiresAt, extended.expiresAt, 'rejected extensions change nothing');
});

step('cancel an order: CANCELLED and its documents deleted', ['more'], async () => {
  const victim = state.more[0];
  const cancelled = await client.cancelSignatureOrder(victim.id);
  assert.equal(cancelled.id, victim.id);
  assert.equal(cancelled.status, 'CANCELLED');
  assert.equal(cancelled.documents.length, 1);

  const { signatureOrder } = await raw(DOCUMENT_BLOBS, { id: victim.id });
  assert.equal(signatureOrder.status, 'CANCELLED');
  assert.equal(signatureOrder.documents.length, 1);
  assert.equal(signatureOrder.documents[0].__typename, 'PdfDocument');
  assert.equal(signatureOrder.documents[0].blob, null, 'blob of a cancelled order');

  const listed = await client.querySignatureOrders({ first: 100, status: 'CANCELLED' });
  assert.ok(listed.some(o => o.id === victim.id), 'listed under status CANCELLED');
  assert.ok(listed.every(o => o.status === 'CANCELLED'), 'status filter');
  const open = await client.querySignatureOrders({ first: 100, status: 'OPEN' });
  assert.ok(!open.some(o => o.id === victim.id), 'not listed under status OPEN');

  // A cancelled order is final.
  await graphqlError(() => client.extendSignatureOrder(victim.id, { additionalExpirationInDays: 1 }));
});

step('close with retainDocumentsForDays: the response carries the documents', ['order'], async () => {
  const { order, pdfA, pdfB } = state;
  const closed = await client.closeSignatureOrder(order.id, { retainDocumentsForDays: 2 });
  assert.equal(closed.id, order.id);
  assert.equal(closed.status, 'CLOSED');
  assert.ok(closed.closedAt && !Number.isNaN(Date.parse(closed.closedAt)), 'closedAt set');
  assert.equal(closed.documents.length, 2);
  assert.equal(closed.documents[0].__typename, 'PdfDocument');
  assertBlob(closed.documents[0].blob, pdfA, 'close response, document A');
  assertBlob(closed.documents[1].blob, pdfB, 'close response, document B');
  state.closed = closed;
});

step('query the closed order: documents retained', ['closed'], async () => {
  const { order, pdfA, pdfB } = state;
  const got = await client.querySignatureOrder(order.id, true);
  assert.equal(got.status, 'CLOSED');
  assertBlob(got.documents[0].blob, pdfA, 'retained document A');
  assertBlob(got.documents[1].blob, pdfB, 'retained document B');
  // A closed order is final.
  await graphqlError(() => client.addSignatory(order.id, { reference: 'late' }));
});

step('cleanup deletes the retained documents, and is idempotent', ['closed'], async () => {
  const { order } = state;
  const cleaned = await client.cleanupSignatureOrder(order.id);
  assert.equal(cleaned.id, order.id);
  assert.equal(cleaned.status, 'CLOSED');
  const { signatureOrder } = await raw(DOCUMENT_BLOBS, { id: order.id });
  assert.equal(signatureOrder.documents.length, 2, 'document metadata stays');
  for (const d of signatureOrder.documents) assert.equal(d.blob, null, `blob of ${d.title} after cleanup`);

  const again = await client.cleanupSignatureOrder(order.id);
  assert.equal(again.id, order.id);
  assert.equal(again.status, 'CLOSED');
});

step('a document that is not a PDF is rejected', [], async () => {
  const title = `Not a PDF ${run}`;
  const message = await graphqlError(() => client.createSignatureOrder({
    title: 'bad document',
    evidenceProviders: [{ noop: { name: 'test' } }],
    documents: [{ pdf: { title, blob: Buffer.from('hello, this is plain text'), storageMode: 'Temporary' } }],
  }));
  assert.equal(message, `Document ${title} does not appear to be a PDF`);
});

test('bad credentials are an "Unauthorized access" error', { timeout: STEP_TIMEOUT }, async () => {
  const strangers = [
    new CriiptoSignatures('nobody', 'nothing', { endpoint }),
    new CriiptoSignatures(env('ESIGN_CLIENT_ID'), `${env('ESIGN_CLIENT_SECRET')}x`, { endpoint }),
  ];
  for (const c of strangers) {
    assert.equal(await graphqlError(() => c.querySignatureOrders({ first: 1 })), 'Unauthorized access');
    assert.equal(await graphqlError(() => c.querySignatureOrder(state.order?.id ?? 'x')), 'Unauthorized access');
  }
});

test('a READ_ONLY key reads but cannot create', { timeout: STEP_TIMEOUT }, async t => {
  if (!readOnly) {
    t.skip('ESIGN_READONLY_CLIENT_ID is not set');
    return;
  }
  if (state.order) {
    const got = await readOnly.querySignatureOrder(state.order.id);
    assert.ok(got, 'a READ_ONLY key of the same application reads its orders');
    assert.equal(got.id, state.order.id);
    // The link and token are the power to sign: a READ_ONLY key gets "" for both (the contract's
    // String! stays, which the SDKs' models require).
    assert.ok(got.signatories.length > 0 && got.signatories.every(s => s.token === '' && s.href === ''),
      'a READ_ONLY key sees no signatory token or href');
  }
  const pdf = await makePdf(`Read-only ${run}`, ['must not be stored']);
  const message = await graphqlError(() => readOnly.createSignatureOrder({
    title: 'read-only attempt',
    evidenceProviders: [{ noop: { name: 'test' } }],
    documents: [{ pdf: { title: `Read-only ${run}`, blob: pdf, storageMode: 'Temporary' } }],
  }));
  assert.ok(message.length > 0);
  const listed = await readOnly.querySignatureOrders({ first: 100 });
  assert.ok(!listed.some(o => o.title === 'read-only attempt'), 'nothing was created');
});
