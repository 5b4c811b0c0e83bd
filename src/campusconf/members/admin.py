from django.contrib import admin

from campusconf.members.models import Member, MemberAddress


class AddressInline(admin.TabularInline[MemberAddress, Member]):
    model = MemberAddress
    extra = 0


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin[Member]):
    list_display = ["common_id", "family_name_latin", "given_name_latin", "roles", "status"]
    list_filter = ["status", "roles", "affiliation"]
    search_fields = ["common_id", "family_name_latin", "given_name_latin", "addresses__address"]
    inlines = [AddressInline]
