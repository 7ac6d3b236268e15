"""End-to-end client: drives a running server with the OFFICIAL Python SDK (criipto-signatures, pinned
with its dependencies in e2e/python-sdk-requirements.txt; Python 3.13 or later) as an integrator does.

Unlike the Node SDK, the Python SDK serializes every input with pydantic's model_dump(), so each field
left unset reaches the server as an explicit null; this script is where that is judged.

  ESIGN_ENDPOINT=http://127.0.0.1:8080/v1/graphql ESIGN_CLIENT_ID=... ESIGN_CLIENT_SECRET=... \
  ESIGN_PDF_A=a.pdf ESIGN_PDF_B=b.pdf ESIGN_OUTPUT_DIR=out \
  [ESIGN_READONLY_CLIENT_ID=... ESIGN_READONLY_CLIENT_SECRET=...] python e2e/python-sdk-e2e.py

The steps run in order and share state. Each step prints one line: "ok <step>: <what it did>", or
"FAIL <step>: <the server's error>", or "SKIP <step>" when a step it needs failed; the exit status is
non-zero when any step did not pass.
"""

import base64
import json
import os
import sys
import traceback
import uuid
from datetime import datetime

from criipto_signatures import CriiptoSignaturesSDKSync
from criipto_signatures.models import (
    AddSignatoriesInput,
    AddSignatoryInput,
    BatchSignatoryItemInput,
    CancelSignatureOrderInput,
    ChangeSignatoryInput,
    ChangeSignatureOrderInput,
    CleanupSignatureOrderInput,
    CloseSignatureOrderInput,
    CreateBatchSignatoryInput,
    CreateSignatureOrderInput,
    CreateSignatureOrderSignatoryInput,
    CreateSignatureOrderUIInput,
    CreateSignatureOrderWebhookInput,
    DeleteSignatoryInput,
    DocumentInput,
    DocumentStorageMode,
    DrawableEvidenceProviderInput,
    EvidenceProviderInput,
    ExtendSignatureOrderInput,
    Language,
    NoopEvidenceProviderInput,
    PadesDocumentInput,
    SignatoryDocumentInput,
    SignatoryDocumentStatus,
    SignatureOrderStatus,
    SignDrawableInput,
    SignInput,
    UpdateSignatoryDocumentStatusInput,
)
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from pydantic import ValidationError


class StepFailed(Exception):
    """A check of a step did not hold."""


def env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"environment variable {name} is required")
    return value


def check(condition, message):
    if not condition:
        raise StepFailed(message)


def server_error(err):
    """The GraphQL errors the server answered, as it sent them (message, path, extensions)."""
    if isinstance(err, TransportQueryError) and err.errors:
        return json.dumps(err.errors)
    if isinstance(err, ValidationError):  # the SDK's models refused what the server answered
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e['input']!r})" for e in err.errors()]
        return f"the SDK cannot parse the answer ({err.title}): " + "; ".join(problems)
    return f"{type(err).__name__}: {err}"


def graphql_error(fn):
    """Runs fn, which must be refused with a GraphQL error, and returns the first error's message."""
    try:
        fn()
    except TransportQueryError as err:
        check(err.errors, f"a transport error without GraphQL errors: {err}")
        return err.errors[0]["message"]
    raise StepFailed("expected the call to be refused with a GraphQL error; it succeeded")


def kind(node):
    """The GraphQL type the SDK parsed a union member as: its model classes end in _<TypeName>."""
    return type(node).__name__.rsplit("_", 1)[-1]


# The signatory side. The Python SDK has no client for it (the Node SDK's SignatoryViewerClient), so
# these are the Node client's operations, sent with the SDK's own transport library and header
# conventions, and their inputs built and serialized by the SDK's models as its methods do (explicit
# nulls included).
SIGNATORY_VIEWER = gql("""
query viewer {
  viewer {
    __typename
    ... on SignatoryViewer {
      signatoryId
      status
      evidenceProviders { __typename id }
      documents { edges { status node { id } } }
    }
  }
}""")
UPDATE_DOCUMENT_STATUS = gql("""
mutation updateSignatoryDocumentStatus($input: UpdateSignatoryDocumentStatusInput!) {
  updateSignatoryDocumentStatus(input: $input) {
    documentEdge { status node { id } }
  }
}""")
SIGN = gql("""
mutation sign($input: SignInput!) {
  sign(input: $input) {
    viewer { __typename ... on SignatoryViewer { status signer } }
  }
}""")


class SignatoryClient:
    def __init__(self, endpoint, token):
        transport = HTTPXTransport(
            url=endpoint,
            headers={"Signatory-Token": token, "Criipto-Sdk": "criipto-signatures-python"},
        )
        self.client = Client(transport=transport, fetch_schema_from_transport=False)

    def execute(self, document, input_model=None):
        if input_model is not None:
            document.variable_values = {"input": input_model.model_dump()}
        else:
            document.variable_values = None
        return self.client.execute(document)

    def viewer(self):
        return self.execute(SIGNATORY_VIEWER)["viewer"]

    def approve(self, document_id):
        return self.execute(
            UPDATE_DOCUMENT_STATUS,
            UpdateSignatoryDocumentStatusInput(documentId=document_id, status=SignatoryDocumentStatus.APPROVED),
        )

    def sign(self, evidence):
        return self.execute(SIGN, evidence)["sign"]["viewer"]


# A 1x1 PNG, as a drawn signature.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class Run:
    def __init__(self):
        self.endpoint = env("ESIGN_ENDPOINT")
        self.client = CriiptoSignaturesSDKSync(env("ESIGN_CLIENT_ID"), env("ESIGN_CLIENT_SECRET"), endpoint=self.endpoint)
        self.read_only = None
        if os.environ.get("ESIGN_READONLY_CLIENT_ID"):
            self.read_only = CriiptoSignaturesSDKSync(
                os.environ["ESIGN_READONLY_CLIENT_ID"],
                os.environ.get("ESIGN_READONLY_CLIENT_SECRET", ""),
                endpoint=self.endpoint,
            )
        self.output_dir = env("ESIGN_OUTPUT_DIR")
        with open(env("ESIGN_PDF_A"), "rb") as f:
            self.pdf_a = f.read()
        with open(env("ESIGN_PDF_B"), "rb") as f:
            self.pdf_b = f.read()
        self.tag = uuid.uuid4().hex[:8]  # tells this run's orders apart on a shared server
        self.order = None
        self.documents = None
        self.signatories = None
        self.providers = None
        self.closed = None

    def pdf(self, title, reference, data):
        # The SDK takes bytes or base64 text for a blob; an integrator reading files sends base64.
        return DocumentInput(pdf=PadesDocumentInput(
            title=title, reference=reference, blob=base64.b64encode(data).decode("ascii"),
            storageMode=DocumentStorageMode.Temporary,
        ))

    def create(self):
        order = self.client.createSignatureOrder(CreateSignatureOrderInput(
            title=f"Python SDK e2e {self.tag}",
            maxSignatories=3,
            expiresInDays=7,
            evidenceProviders=[
                EvidenceProviderInput(noop=NoopEvidenceProviderInput(name="test")),
                EvidenceProviderInput(drawable=DrawableEvidenceProviderInput(requireName=True)),
            ],
            ui=CreateSignatureOrderUIInput(language=Language.DA_DK),
            webhook=CreateSignatureOrderWebhookInput(url=f"http://127.0.0.1:9/python-sdk-e2e/{self.tag}"),
            documents=[
                self.pdf(f"Agreement A {self.tag}", "doc-a", self.pdf_a),
                self.pdf(f"Agreement B {self.tag}", "doc-b", self.pdf_b),
            ],
            signatories=[
                CreateSignatureOrderSignatoryInput(reference="signer-1", signingSequence=1),
                CreateSignatureOrderSignatoryInput(reference="signer-2", signingSequence=2),
            ],
        ))
        check(order.status == "OPEN", f"status {order.status}, want OPEN")
        check(order.title == f"Python SDK e2e {self.tag}", f"title {order.title!r}")
        check(order.maxSignatories == 3, f"maxSignatories {order.maxSignatories}")
        check(order.closedAt is None, f"closedAt {order.closedAt}")
        expires = datetime.fromisoformat(order.expiresAt.replace("Z", "+00:00"))
        days = (expires - datetime.now(expires.tzinfo)).total_seconds() / 86400
        check(6.9 < days <= 7.01, f"expiresAt {order.expiresAt} is {days:.2f} days away, want 7")
        check([kind(d) for d in order.documents] == ["PdfDocument", "PdfDocument"],
              f"documents {[kind(d) for d in order.documents]}")
        check([(d.title, d.reference) for d in order.documents]
              == [(f"Agreement A {self.tag}", "doc-a"), (f"Agreement B {self.tag}", "doc-b")],
              f"documents {[(d.title, d.reference) for d in order.documents]}")
        # The SDK's models keep no __typename; which provider is which, the signatory viewer tells.
        check(len(order.evidenceProviders) == 2 and all(p.id for p in order.evidenceProviders),
              f"evidence providers {order.evidenceProviders}")
        check([s.reference for s in order.signatories] == ["signer-1", "signer-2"],
              f"signatories {[s.reference for s in order.signatories]}")
        for s in order.signatories:
            check(s.status == "OPEN" and s.token and s.href, f"signatory {s.id}: status {s.status}, token/href missing")
            check(len(s.documents.edges) == 2, f"signatory {s.reference} has {len(s.documents.edges)} documents, want both")
            check(s.signatureOrder.id == order.id, "signatory's order id")
        self.order = order
        self.documents = order.documents
        self.signatories = order.signatories
        self.providers = order.evidenceProviders
        return (f"order {order.id} with 2 PDFs ({len(self.pdf_a)} and {len(self.pdf_b)} bytes) "
                f"and signatories {[s.id for s in order.signatories]}")

    def query_open(self):
        got = self.client.querySignatureOrderWithDocuments(self.order.id)
        check(got.id == self.order.id and got.status == "OPEN", f"order {got.id} status {got.status}")
        check(got.documents[0].blob == self.pdf_a, "document A read back differs from the upload")
        check(got.documents[1].blob == self.pdf_b, "document B read back differs from the upload")
        check(all(not d.signatures for d in got.documents), "signatures before anyone signed")
        s2 = self.client.querySignatory(self.signatories[1].id)
        check(s2.id == self.signatories[1].id and s2.reference == "signer-2" and s2.token == self.signatories[1].token,
              f"signatory {s2.id} {s2.reference}")
        return "querySignatureOrderWithDocuments returned both uploads byte for byte; querySignatory signer-2"

    def add_change_delete(self):
        added = self.client.addSignatory(AddSignatoryInput(signatureOrderId=self.order.id, reference="signer-3"))
        check(added.status == "OPEN" and added.reference == "signer-3" and added.token and added.href,
              f"added {added.id}: {added.status} {added.reference}")
        check(added.signatureOrder.id == self.order.id, "the added signatory's order")
        every = sorted(d.id for d in self.documents)
        check(sorted(e.node.id for e in added.documents.edges) == every, "documents: null gives the signatory every document")
        full = graphql_error(lambda: self.client.addSignatory(
            AddSignatoryInput(signatureOrderId=self.order.id, reference="signer-4")))

        changed = self.client.changeSignatory(ChangeSignatoryInput(signatoryId=added.id, reference="signer-3b"))
        check(changed.id == added.id and changed.reference == "signer-3b", f"changed reference {changed.reference!r}")
        # The SDK sent documents, signingSequence, ui, ... as null: null must mean "unchanged".
        check(sorted(e.node.id for e in changed.documents.edges) == every,
              f"documents after a change that did not name them: {[e.node.id for e in changed.documents.edges]}")

        after = self.client.deleteSignatory(DeleteSignatoryInput(signatureOrderId=self.order.id, signatoryId=added.id))
        check(after.id == self.order.id, "deleteSignatory returns the order")
        gone = [s for s in after.signatories if s.id == added.id]
        check(not gone or gone[0].status == "DELETED", f"the deleted signatory is listed as {gone[0].status if gone else None}")
        check([s.id for s in after.signatories if s.status == "OPEN"] == [s.id for s in self.signatories],
              "the open signatories after the delete")
        return (f"added {added.id} (signer-3, every document), a fourth refused ({full!r}), "
                f"changed it to signer-3b (documents kept), deleted it")

    def signatory_documents(self):
        """addSignatory and changeSignatory with a subset of the documents (SignatoryDocumentInput)."""
        doc_a, doc_b = self.documents
        added = self.client.addSignatory(AddSignatoryInput(
            signatureOrderId=self.order.id, reference="signer-5", documents=[SignatoryDocumentInput(id=doc_b.id)],
        ))
        try:
            check([e.node.id for e in added.documents.edges] == [doc_b.id], "the added signatory's documents")
            changed = self.client.changeSignatory(ChangeSignatoryInput(
                signatoryId=added.id, documents=[SignatoryDocumentInput(id=doc_a.id)]))
            check([e.node.id for e in changed.documents.edges] == [doc_a.id], "documents after changeSignatory")
            check(changed.reference == "signer-5", "reference: null keeps the reference")
        finally:
            self.client.deleteSignatory(DeleteSignatoryInput(signatureOrderId=self.order.id, signatoryId=added.id))
        return f"added {added.id} with document B only, changed it to document A only, deleted it"

    def extend_and_change(self):
        before = self.client.querySignatureOrder(self.order.id)
        extended = self.client.extendSignatureOrder(ExtendSignatureOrderInput(
            signatureOrderId=self.order.id, additionalExpirationInDays=5))
        delta = datetime.fromisoformat(extended.expiresAt.replace("Z", "+00:00")) - datetime.fromisoformat(
            before.expiresAt.replace("Z", "+00:00"))
        check(delta.total_seconds() == 5 * 86400, f"{before.expiresAt} + 5 days = {extended.expiresAt}")
        changed = self.client.changeSignatureOrder(ChangeSignatureOrderInput(signatureOrderId=self.order.id, maxSignatories=4))
        check(changed.maxSignatories == 4, f"maxSignatories {changed.maxSignatories}")
        changed = self.client.changeSignatureOrder(ChangeSignatureOrderInput(signatureOrderId=self.order.id, maxSignatories=3))
        check(changed.maxSignatories == 3 and changed.expiresAt == extended.expiresAt, "changeSignatureOrder kept expiresAt")
        return f"expiresAt {before.expiresAt} -> {extended.expiresAt}; maxSignatories 3 -> 4 -> 3"

    def cancel_other(self):
        order = self.client.createSignatureOrder(CreateSignatureOrderInput(
            title=f"Python SDK cancel {self.tag}",
            evidenceProviders=[EvidenceProviderInput(noop=NoopEvidenceProviderInput(name="test"))],
            documents=[self.pdf(f"Cancel {self.tag}", "cancel", self.pdf_a)],
        ))
        added = self.client.addSignatories(AddSignatoriesInput(signatureOrderId=order.id, signatories=[
            CreateSignatureOrderSignatoryInput(reference="c-1"), CreateSignatureOrderSignatoryInput(reference="c-2"),
        ]))
        check([s.reference for s in added] == ["c-1", "c-2"], f"addSignatories: {[s.reference for s in added]}")
        cancelled = self.client.cancelSignatureOrder(CancelSignatureOrderInput(signatureOrderId=order.id))
        check(cancelled.status == "CANCELLED", f"status {cancelled.status}")
        got = self.client.querySignatureOrderWithDocuments(order.id)
        check(got.status == "CANCELLED" and all(d.blob is None for d in got.documents), "blobs of a cancelled order")
        listed = self.client.querySignatureOrders(first=100, status=SignatureOrderStatus.CANCELLED)
        check(any(o.id == order.id for o in listed) and all(o.status == "CANCELLED" for o in listed),
              "querySignatureOrders(status=CANCELLED)")
        return f"order {order.id}: addSignatories c-1, c-2; cancelled, blobs null, listed under CANCELLED"

    def list_default(self):
        """querySignatureOrders without a status: the SDK sends status "" (not null) for it."""
        orders = self.client.querySignatureOrders(first=100)
        check(any(o.id == self.order.id for o in orders), "the order is not listed")
        return f"{len(orders)} orders listed"

    def sign(self):
        done = []
        for i, signatory in enumerate(self.signatories):
            c = SignatoryClient(self.endpoint, signatory.token)
            viewer = c.viewer()
            check(viewer["__typename"] == "SignatoryViewer" and viewer["signatoryId"] == signatory.id,
                  f"viewer of {signatory.reference}: {viewer}")
            providers = {p["__typename"]: p["id"] for p in viewer["evidenceProviders"]}
            check(sorted(providers.values()) == sorted(p.id for p in self.providers),
                  f"the viewer's evidence providers {providers}, the order's {[p.id for p in self.providers]}")
            if i == 0:
                ev = SignInput(id=providers["NoopSignatureEvidenceProvider"], noop=True)
            else:
                ev = SignInput(id=providers["DrawableSignatureEvidenceProvider"],
                               drawable=SignDrawableInput(image=PNG, name="Ada Lovelace"))
            for d in self.documents:
                c.approve(d.id)
            signed = c.sign(ev)
            check(signed["__typename"] == "SignatoryViewer" and signed["status"] == "SIGNED",
                  f"{signatory.reference} after sign: {signed}")
            done.append(f"{signatory.reference} ({'noop' if ev.noop else 'drawable'})")
        for s in self.signatories:
            got = self.client.querySignatory(s.id)
            check(got.status == "SIGNED", f"{s.reference} is {got.status} after signing, want SIGNED")
        return "approved both documents and signed with the signatory token: " + ", ".join(done)

    def close(self):
        closed = self.client.closeSignatureOrder(CloseSignatureOrderInput(signatureOrderId=self.order.id, retainDocumentsForDays=2))
        check(closed.id == self.order.id and closed.status == "CLOSED", f"status {closed.status}")
        check(closed.closedAt, "closedAt")
        check(len(closed.documents) == 2, f"{len(closed.documents)} documents")
        for d in closed.documents:
            check(isinstance(d.blob, bytes) and d.blob.startswith(b"%PDF-"), f"{d.title}: blob is not a PDF")
            check(b"/ETSI.CAdES.detached" in d.blob, f"{d.title}: no PAdES signature")
            check([x.signatory.id for x in d.signatures] == [s.id for s in self.signatories],
                  f"{d.title}: signatures of {[x.signatory.id if x.signatory else None for x in d.signatures]}")
            check([kind(x) for x in d.signatures] == ["EmptySignature", "DrawableSignature"],
                  f"{d.title}: signature kinds {[kind(x) for x in d.signatures]}")
            check(d.signatures[1].name == "Ada Lovelace" and d.signatures[1].image == PNG, f"{d.title}: the drawn signature")
        self.closed = closed
        return f"CLOSED at {closed.closedAt}, retained 2 days; 2 sealed PDFs with 2 signatures each"

    def read_blobs(self):
        got = self.client.querySignatureOrderWithDocuments(self.order.id)
        check(got.status == "CLOSED", f"status {got.status}")
        written = []
        for d, c in zip(got.documents, self.closed.documents):
            check(d.blob == c.blob, f"{d.title}: the retained blob differs from the close response")
            path = os.path.join(self.output_dir, f"python-sealed-{d.reference}.pdf")
            with open(path, "wb") as f:
                f.write(d.blob)
            written.append(f"{os.path.basename(path)} ({len(d.blob)} bytes)")
        late = graphql_error(lambda: self.client.addSignatory(AddSignatoryInput(signatureOrderId=self.order.id, reference="late")))
        return f"read the retained documents and wrote {', '.join(written)}; addSignatory refused ({late!r})"

    def cleanup_twice(self):
        cleaned = self.client.cleanupSignatureOrder(CleanupSignatureOrderInput(signatureOrderId=self.order.id))
        check(cleaned.id == self.order.id and cleaned.status == "CLOSED", f"first cleanup: {cleaned.status}")
        got = self.client.querySignatureOrderWithDocuments(self.order.id)
        check(len(got.documents) == 2, "document metadata stays after cleanup")
        check(all(d.blob is None for d in got.documents), "blobs after cleanup")
        again = self.client.cleanupSignatureOrder(CleanupSignatureOrderInput(signatureOrderId=self.order.id))
        check(again.id == self.order.id and again.status == "CLOSED", f"second cleanup: {again.status}")
        return "cleanup deleted the retained documents (blobs null); the second cleanup succeeded too"

    def read_only_cannot_create(self):
        if self.read_only is None:
            raise StepFailed("ESIGN_READONLY_CLIENT_ID is not set")
        refused = graphql_error(lambda: self.read_only.createSignatureOrder(CreateSignatureOrderInput(
            title=f"read-only attempt {self.tag}",
            evidenceProviders=[EvidenceProviderInput(noop=NoopEvidenceProviderInput(name="test"))],
            documents=[self.pdf(f"Read-only {self.tag}", None, self.pdf_a)],
        )))
        listed = self.client.querySignatureOrders(first=100, status=SignatureOrderStatus.OPEN)
        check(not any(o.title == f"read-only attempt {self.tag}" for o in listed), "a READ_ONLY key created an order")
        return f"createSignatureOrder refused ({refused!r})"

    def read_only_reads(self):
        """A READ_ONLY key gets null Signatory.href and token (README, Rights and limits)."""
        if self.read_only is None:
            raise StepFailed("ESIGN_READONLY_CLIENT_ID is not set")
        got = self.read_only.querySignatureOrder(self.order.id)
        check(got.id == self.order.id, "the order read with a READ_ONLY key")
        orders = self.read_only.querySignatureOrders(first=100, status=SignatureOrderStatus.CLOSED)
        check(any(o.id == self.order.id for o in orders), "the order listed with a READ_ONLY key")
        return f"querySignatureOrder and querySignatureOrders(status=CLOSED) with a READ_ONLY key"

    def bad_credentials(self):
        stranger = CriiptoSignaturesSDKSync("nobody", "nothing", endpoint=self.endpoint)
        wrong = CriiptoSignaturesSDKSync(env("ESIGN_CLIENT_ID"), env("ESIGN_CLIENT_SECRET") + "x", endpoint=self.endpoint)
        messages = set()
        for c in (stranger, wrong):
            messages.add(graphql_error(lambda: c.querySignatureOrder(self.order.id if self.order else "x")))
            messages.add(graphql_error(lambda: c.querySignatureOrders(first=1, status=SignatureOrderStatus.OPEN)))
        check(messages == {"Unauthorized access"}, f"messages {messages}")
        return "unknown and wrong credentials are refused: 'Unauthorized access'"

    def batch_order(self):
        """An open order of one signatory, for the batch step."""
        order = self.client.createSignatureOrder(CreateSignatureOrderInput(
            title=f"Python SDK batch {self.tag}",
            evidenceProviders=[EvidenceProviderInput(noop=NoopEvidenceProviderInput(name="test"))],
            documents=[self.pdf(f"Batch {self.tag}", "batch", self.pdf_a)],
            signatories=[CreateSignatureOrderSignatoryInput(reference="batch-signer")],
        ))
        return order

    def batch_items(self):
        orders = [self.batch_order(), self.batch_order()]
        return orders, [BatchSignatoryItemInput(signatureOrderId=o.id, signatoryId=o.signatories[0].id) for o in orders]

    def batch(self):
        orders, items = self.batch_items()
        batch = self.client.createBatchSignatory(CreateBatchSignatoryInput(items=items))
        check(batch.id and batch.token and batch.href, f"batch signatory {batch.id}: token or href missing")
        check(sorted((i.signatureOrder.id, i.signatory.id) for i in batch.items)
              == sorted((i.signatureOrderId, i.signatoryId) for i in items), "batch items")
        got = self.client.queryBatchSignatory(batch.id)
        check(got.id == batch.id and len(got.items) == 2, f"queryBatchSignatory: {got.id}, {len(got.items)} items")
        return f"batch signatory {batch.id} over orders {[o.id for o in orders]}; queryBatchSignatory agrees"


def main():
    run = Run()
    # (name, function, the steps it needs): a step whose input an earlier step failed to produce is
    # skipped with the reason, so that one run reports every independent failure.
    steps = [
        ("create a signature order with two PDFs", run.create, []),
        ("query the open order back", run.query_open, ["create a signature order with two PDFs"]),
        ("add, change and delete a signatory", run.add_change_delete, ["create a signature order with two PDFs"]),
        ("give a signatory a subset of the documents", run.signatory_documents, ["create a signature order with two PDFs"]),
        ("extend and change the order", run.extend_and_change, ["create a signature order with two PDFs"]),
        ("list signature orders without a status filter", run.list_default, ["create a signature order with two PDFs"]),
        ("cancel another order", run.cancel_other, []),
        ("sign through the signatory API", run.sign, ["create a signature order with two PDFs"]),
        ("close with retention", run.close, ["sign through the signatory API"]),
        ("read the retained blobs", run.read_blobs, ["close with retention"]),
        ("cleanup twice", run.cleanup_twice, ["read the retained blobs"]),
        ("a READ_ONLY key cannot create", run.read_only_cannot_create, []),
        ("a READ_ONLY key reads the order", run.read_only_reads, ["close with retention"]),
        ("bad credentials", run.bad_credentials, []),
        ("batch signatory", run.batch, []),
    ]
    passed, failed = set(), []
    for name, fn, needs in steps:
        missing = [n for n in needs if n not in passed]
        if missing:
            print(f"SKIP {name}: needs {', '.join(missing)}, which failed", flush=True)
            failed.append(name)
            continue
        try:
            print(f"ok {name}: {fn()}", flush=True)
            passed.add(name)
        except StepFailed as err:
            print(f"FAIL {name}: {err}", flush=True)
            failed.append(name)
        except Exception as err:  # the SDK raises the server's GraphQL errors as TransportQueryError
            print(f"FAIL {name}: {server_error(err)}", flush=True)
            if not isinstance(err, (TransportQueryError, ValidationError)):
                traceback.print_exc(limit=-3)  # a fault of the script or the SDK, not an answer
            failed.append(name)
    if failed:
        print(f"FAILED {len(failed)} of {len(steps)} steps: {', '.join(failed)}", flush=True)
        return 1
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
