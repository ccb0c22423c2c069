"""schemathesis hooks of `make test-api-schema` (scripts/test-api-schema).

An Idempotency-Key names one intended store: a client sends a new key for
each new store and the same key only to retry the same request. schemathesis
draws header values from a small space and sends "0" with many different
bodies, which the API rightly refuses (422 idempotency-key-reused). So every
valid key it generates is replaced by a fresh UUID, as a client would send; an
invalid key (negative tests) is left as generated. Reusing a key is tested in
functions/create-store's tests.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"[!-~]{1,255}")


@schemathesis.hook
def before_call(context, case, kwargs):
    # Negative cases are left alone: editing one makes schemathesis revalidate
    # it as positive and put back what it had removed (a missing
    # Authorization would be sent after all). They are refused before any
    # key is looked at (401, 400, 422), so their keys never collide.
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
