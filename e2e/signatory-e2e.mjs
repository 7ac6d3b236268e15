// The signatory side through the OFFICIAL SDK's SignatoryViewerClient (the API the hosted signing page
// uses): viewer, openDocument, approveDocument, rejectSignatureOrder, with signing sequence and roles.
//
//   ESIGN_ENDPOINT=... ESIGN_CLIENT_ID=... ESIGN_CLIENT_SECRET=... node --test e2e/signatory-e2e.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tools/package.json', import.meta.url));
require(require.resolve('graphql-tag', { paths: [require.resolve('@criipto/signatures')] })).disableFragmentWarnings();
const { CriiptoSignatures, SignatoryViewerClient } = require('@criipto/signatures');
const { PDFDocument } = require('pdf-lib');

const endpoint = process.env.ESIGN_ENDPOINT;
const app = new CriiptoSignatures(process.env.ESIGN_CLIENT_ID, process.env.ESIGN_CLIENT_SECRET, { endpoint });
const as = signatory => new SignatoryViewerClient({ token: signatory.token }, { endpoint });

async function pdf() {
  const doc = await PDFDocument.create();
  doc.addPage().drawText('Signatory test');
  return Buffer.from(await doc.save());
}

const state = {};

test('an order with an approver (first) and a signer (second)', async () => {
  const order = await app.createSignatureOrder({
    title: 'Signatory flow',
    documents: [
      { pdf: { title: 'One', reference: 'one', blob: await pdf(), storageMode: 'Temporary' } },
      { pdf: { title: 'Two', reference: 'two', blob: await pdf(), storageMode: 'Temporary' } },
    ],
    signatories: [
      { reference: 'approver', signatoryRole: 'APPROVER', signingSequence: 1 },
      { reference: 'signer', signingSequence: 2, documents: [{ id: 'one' }, { id: 'two', preapproved: true }] },
    ],
  });
  state.order = order;
  state.approver = order.signatories.find(s => s.reference === 'approver');
  state.signer = order.signatories.find(s => s.reference === 'signer');
  state.docs = Object.fromEntries(order.documents.map(d => [d.reference, d.id]));
});

test('each token shows its own signatory viewer', async () => {
  const viewer = await as(state.signer).viewer();
  assert.equal(viewer.__typename, 'SignatoryViewer');
  assert.equal(viewer.signatoryId, state.signer.id);
  assert.equal(viewer.role, 'SIGNER');
  assert.equal(viewer.signer, true);
  assert.equal(viewer.status, 'OPEN');
  const statuses = Object.fromEntries(viewer.documents.edges.map(e => [e.node.id, e.status]));
  assert.deepEqual(statuses, { [state.docs.one]: null, [state.docs.two]: 'PREAPPROVED' });
  const approver = await as(state.approver).viewer();
  assert.equal(approver.role, 'APPROVER');
  assert.equal(approver.signer, false);
  assert.equal(approver.documents.edges.length, 2);
});

test('trackSignatory and signatoryBeacon answer with the viewer', async () => {
  const c = as(state.signer).client;
  const tracked = await c.request('mutation { trackSignatory(input: {event: SIGN_LINK_OPENED}) { viewer { __typename ... on SignatoryViewer { signatoryId } } } }');
  assert.equal(tracked.trackSignatory.viewer.signatoryId, state.signer.id);
  const beacon = await c.request('mutation($now: DateTime!) { signatoryBeacon(input: {lastActionAt: $now}) { viewer { __typename } } }', { now: new Date().toISOString() });
  assert.equal(beacon.signatoryBeacon.viewer.__typename, 'SignatoryViewer');
});

test('an invalid token is an anonymous viewer', async () => {
  const viewer = await as({ token: 'not-a-token' }).viewer();
  assert.equal(viewer.__typename, 'AnonymousViewer');
  assert.equal(viewer.authenticated, false);
});

test('the signer must wait for the approver (signing sequence)', async () => {
  await assert.rejects(as(state.signer).approveDocument({ documentId: state.docs.one }), /turn/);
});

test('the approver opens and approves both documents and becomes APPROVED', async () => {
  const client = as(state.approver);
  for (const id of [state.docs.one, state.docs.two]) {
    await client.openDocument({ documentId: id });
    await client.approveDocument({ documentId: id });
  }
  const viewer = await client.viewer();
  assert.equal(viewer.status, 'APPROVED');
  assert.ok(viewer.documents.edges.every(e => e.status === 'APPROVED'));
  const signatory = await app.querySignatory(state.approver.id);
  assert.equal(signatory.status, 'APPROVED');
});

test('the signer approves, then rejects the order with a reason', async () => {
  const client = as(state.signer);
  await client.approveDocument({ documentId: state.docs.one });
  const viewer = await client.viewer();
  assert.equal(viewer.documents.edges.find(e => e.node.id === state.docs.one).status, 'APPROVED');
  await client.rejectSignatureOrder({ reason: 'wrong amount' });
  const signatory = await app.querySignatory(state.signer.id);
  assert.equal(signatory.status, 'REJECTED');
  assert.equal(signatory.statusReason, 'wrong amount');
  await assert.rejects(client.rejectSignatureOrder({ reason: 'again' }), /REJECTED/);
});

test('a signatory token cannot use the application API', async () => {
  await assert.rejects(
    as(state.signer).client.request('query($id: ID!) { signatureOrder(id: $id) { id } }', { id: state.order.id }),
    /Unauthorized access/,
  );
});

// A 1×1 PNG, as a drawn signature.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

test('two signatories sign (noop and drawable); close returns PAdES-signed PDFs', async () => {
  const order = await app.createSignatureOrder({
    title: 'Sealed',
    documents: [{ pdf: { title: 'Contract', blob: await pdf(), storageMode: 'Temporary' } }],
    evidenceProviders: [{ noop: { name: 'test' } }, { drawable: { requireName: true } }],
    signatories: [{ reference: 'a' }, { reference: 'b' }],
  });
  const [noop, drawable] = order.evidenceProviders;
  const docId = order.documents[0].id;
  for (const [i, s] of order.signatories.entries()) {
    const c = as(s);
    await c.approveDocument({ documentId: docId });
    const viewer = i === 0
      ? await c.sign({ id: noop.id, noop: true })
      : await c.sign({ id: drawable.id, drawable: { image: PNG, name: 'Ada Lovelace' } });
    assert.equal(viewer.status, 'SIGNED');
  }
  const closed = await app.closeSignatureOrder(order.id, { retainDocumentsForDays: 1 });
  const blob = closed.documents[0].blob;
  assert.ok(Buffer.isBuffer(blob) && blob.subarray(0, 5).toString() === '%PDF-');
  assert.ok(blob.includes('/ETSI.CAdES.detached'));
  // Document.signatures, read back from the sealed PDF: one per signatory, in signing order.
  const sigs = closed.documents[0].signatures;
  assert.deepEqual(sigs.map(x => x.__typename), ['EmptySignature', 'DrawableSignature']);
  assert.deepEqual(sigs.map(x => x.signatory.id), order.signatories.map(x => x.id));
  assert.equal(sigs[1].name, 'Ada Lovelace');
  const image = sigs[1].image; // a Blob: the SDK may hand it over as base64 text or as a Buffer
  assert.ok((typeof image === 'string' ? Buffer.from(image, 'base64') : Buffer.from(image)).equals(PNG));
  for (const x of sigs) {
    assert.ok(x.timestampToken && !Number.isNaN(Date.parse(x.timestampToken.timestamp)));
  }
  if (process.env.ESIGN_OUTPUT_DIR) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${process.env.ESIGN_OUTPUT_DIR}/sealed-${order.id}.pdf`, blob);
  }
});
