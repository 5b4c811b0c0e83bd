from django import template

from campusconf.portal.vendor_links import vendor_link
from campusconf.services.models import Service

register = template.Library()


@register.simple_tag
def sign_in_url(service: Service) -> str:
    return vendor_link(service, "sign_in_url")


@register.simple_tag
def home_url(service: Service) -> str:
    return vendor_link(service, "home_url")
