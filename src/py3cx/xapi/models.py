"""Every XAPI model and enum, by its wire name: ``from py3cx.xapi.models import User, PeerType``.

Generated from the spec (``_generated/models.py``); importing this module loads all of them
(a few hundred milliseconds), which ``client.xapi`` otherwise does on first use.
"""

from py3cx.xapi._generated.models import *  # noqa: F403
from py3cx.xapi._generated.models import __all__ as __all__
