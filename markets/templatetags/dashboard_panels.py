"""`{% dashboard_panel panel %}`: include a registered panel's template with its context.

The panel template sees its context dict three ways, whichever its author prefers: the keys
as top-level variables (`{{ items }}`), `{{ context.items }}` and `{{ panel.context.items }}`
(`panel` also carries `name` and `template`).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_panel(context: template.Context, panel: dict[str, Any]) -> SafeString:
    panel_template = context.template.engine.get_template(panel["template"])
    values = dict(panel["context"] or {})
    with context.push({**values, "panel": panel, "context": values}):
        return panel_template.render(context)
