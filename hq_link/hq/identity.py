"""Which store is calling. The seam for mTLS (a later slice of the HQ link).

Today the agent's claimed store id is taken as it is. With mTLS, the store id
comes from the client certificate (its subject's CN) and a batch for any other
store is PERMISSION_DENIED: `calling_store` is the one place that changes.
"""

from __future__ import annotations

import grpc


def calling_store(context: grpc.ServicerContext, claimed_store_id: str) -> str:
    """The store id this call may write as (the claimed one, until mTLS)."""
    del context  # used with mTLS: context.auth_context()["x509_common_name"]
    return claimed_store_id
