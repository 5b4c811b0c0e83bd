"""The vendors' APIs as CampusConf relies on them: OpenAPI documents and their checker.

Each ``*.yaml`` beside this module is an OpenAPI 3.1 description, written by us, of
the part of one vendor API the connectors use: request bodies, answer bodies, status
codes and the headers we read. ``validate.check`` holds one recorded HTTP exchange
against them with openapi-core. The contract suite (``tests/connectors/``) checks every
request the connectors send and every answer the sandbox gives; ``docs/vendors.md``
names the sources.
"""

from campusconf.connectors.contract.validate import (
    CANONICAL,
    Exchange,
    Rebase,
    check,
    check_webhook,
)

__all__ = ["CANONICAL", "Exchange", "Rebase", "check", "check_webhook"]
