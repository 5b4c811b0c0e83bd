from django.urls import path

from campusconf.portal import views

app_name = "portal"

urlpatterns = [
    path("my/", views.my_services, name="my_services"),
    path("my/services/<slug:slug>/card/", views.card, name="card"),
    path("my/services/<slug:slug>/apply/", views.apply, name="apply"),
    path("my/services/<slug:slug>/resend/", views.resend, name="resend"),
    path("my/services/<slug:slug>/chose-google/", views.chose_google, name="chose_google"),
    path("my/services/<slug:slug>/released/", views.released, name="released"),
    path("my/services/<slug:slug>/leave-queue/", views.leave_queue, name="leave_queue"),
    path("my/inquiries/", views.inquiries, name="inquiries"),
    path("my/inquiries/new/", views.inquiry_new, name="inquiry_new"),
    path("my/inquiries/<int:pk>/", views.inquiry_detail, name="inquiry_detail"),
    path("help/<slug:slug>/", views.help_page, name="help"),
]
