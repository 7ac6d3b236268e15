"""Validates every signature of a PDF with pyHanko and prints one JSON object per signature.

Usage: python pyhanko_validate.py DOCUMENT.pdf TRUST_ROOT.pem

Run by pdftest.PyHankoValidate inside the virtualenv it installs. The only trust anchor is the given
root; nothing is fetched from the network (allow_fetching=False), so revocation comes from the
document's DSS when it has one. Exit status 0 means every signature was evaluated (whatever the
verdict); anything else is a failure of the script itself, explained on stderr.
"""

import json
import sys

from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DiffResult
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko_certvalidator import ValidationContext


def validation_context(reader, roots):
    # A fresh context per signature: a context caches path and revocation results, and one
    # signature's answers must not decide another's.
    kwargs = {"trust_roots": roots, "allow_fetching": False}
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        # Nothing to check revocation against (fetching is off): soft-fail, pyHanko's default.
        return ValidationContext(**kwargs), "soft-fail"
    # With a DSS every certificate's status must be in it: hard-fail makes a DSS that lacks an OCSP
    # response or CRL for any certificate of a chain (signer, TSA) untrusted.
    kwargs["revocation_mode"] = "hard-fail"
    return dss.as_validation_context(kwargs), "hard-fail"


def describe(sig, status, timestamp, revocation):
    level = status.modification_level
    diff = status.diff_result
    out = {
        "field": sig.field_name,
        "timestamp": timestamp,
        "intact": bool(status.intact),
        "valid": bool(status.valid),
        "trusted": bool(status.trusted),
        "revocation_mode": revocation,
        "modification_level": level.name if level is not None else "",
        "docmdp_ok": status.docmdp_ok,
        "coverage": status.coverage.name if status.coverage is not None else "",
        # A document timestamp's status has no bottom line of its own; pyHanko's CLI judges it by
        # these three and the diff analysis.
        "bottom_line": bool(status.bottom_line)
        if hasattr(status, "bottom_line")
        else bool(status.intact and status.valid and status.trusted and status.docmdp_ok is not False),
        "summary": status.summary(),
        # When the diff policy refused a change, its exception says which object and why: the
        # cause a test names when a level is above what PAdES allows.
        "diff_error": "" if diff is None or isinstance(diff, DiffResult) else str(diff),
        "changed_form_fields": sorted(diff.changed_form_fields) if isinstance(diff, DiffResult) else [],
    }
    if not timestamp:
        ts = status.timestamp_validity
        out["signature_timestamp"] = ts is not None
        out["signature_timestamp_ok"] = ts is not None and bool(ts.intact and ts.valid and ts.trusted)
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: pyhanko_validate.py DOCUMENT.pdf TRUST_ROOT.pem")
    roots = list(load_certs_from_pemder([sys.argv[2]]))
    if not roots:
        sys.exit(f"no certificate in {sys.argv[2]}")
    with open(sys.argv[1], "rb") as f:
        reader = PdfFileReader(f)
        results = []
        for sig in reader.embedded_signatures:
            vc, revocation = validation_context(reader, roots)
            if sig.sig_object_type == "/DocTimeStamp":
                status = validate_pdf_timestamp(sig, validation_context=vc)
                results.append(describe(sig, status, True, revocation))
            else:
                status = validate_pdf_signature(sig, signer_validation_context=vc)
                results.append(describe(sig, status, False, revocation))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
