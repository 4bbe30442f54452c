#!/usr/bin/python3
"""Runs Debian's masakari-api or masakari-engine 14.0.2 (`run-masakari.py api|engine --config-file FILE`) with one
fix applied in memory, so that nothing installed is modified.

The fix: oslo.messaging 14 rebuilds the request context for a notification from a safe subset of its fields,
without read_deleted; masakari 14.0.2's RequestContext then gets read_deleted=None and refuses it, so every
create, update and delete would answer 500. A missing read_deleted is given Masakari's own default, 'no'.
"""
import sys

from masakari import context

_from_dict = context.RequestContext.from_dict.__func__


def _from_dict_with_default(cls, values, **kwargs):
    if values.get("read_deleted") is None:
        values = dict(values, read_deleted="no")
    return _from_dict(cls, values, **kwargs)


context.RequestContext.from_dict = classmethod(_from_dict_with_default)

if __name__ == "__main__":
    service = sys.argv.pop(1) if len(sys.argv) > 1 else ""
    if service == "api":
        from masakari.cmd.api import main
    elif service == "engine":
        from masakari.cmd.engine import main
    else:
        sys.exit("usage: run-masakari.py api|engine --config-file FILE")
    sys.exit(main())
