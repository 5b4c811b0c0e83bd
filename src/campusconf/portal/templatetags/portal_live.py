from django import template

from campusconf.portal import live
from campusconf.portal.next_step import NextStep

register = template.Library()


@register.filter
def card_version(step: NextStep) -> str:
    return live.version(step)
