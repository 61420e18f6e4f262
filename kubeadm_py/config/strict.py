"""Upstream's decoding of configuration documents, before the schema sees them.

* ``null`` is the zero value: a section whose children are all commented out (``apiServer:``
  with nothing under it) is an empty section, as Go's decoder reads it
  (:func:`drop_nulls`).
* Strict decoding (``util/config`` ``documentMapToInitConfiguration``: ``strictErrors``):
  ``init``, ``join`` and the other workflows warn about unknown fields and go on without them;
  ``config validate`` and ``config migrate`` refuse them (:func:`split_unknown`)."""

from __future__ import annotations

from typing import Any

from kubeadm_py.config.loader import Document
from kubeadm_py.config.types import KUBEADM_GROUP
from kubeadm_py.config.validation import Issue


def drop_nulls(value: Any) -> Any:
    """``value`` without the mapping entries whose value is ``null`` (at any depth)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def zero_nulls(docs: list[Document]) -> list[Document]:
    """The kubeadm documents with nulls dropped; component configs pass through as given."""
    return [
        Document(d.index, d.api_version, d.kind, drop_nulls(d.body), d.source)
        if d.api_version.startswith(KUBEADM_GROUP + "/")
        else d
        for d in docs
    ]


def split_unknown(issues: list[Issue], warnings: list[str]) -> list[Issue]:
    """Drop every unknown field from its document, add a warning line for it to ``warnings``
    and return the other issues (lenient decoding)."""
    rest: list[Issue] = []
    for issue in issues:
        if issue.unknown is None or issue.document is None:
            rest.append(issue)
            continue
        owner: Any = issue.document.body
        for part in issue.unknown[:-1]:
            owner = owner[part]
        owner.pop(issue.unknown[-1], None)
        warnings.append(issue.warning())
    return rest
