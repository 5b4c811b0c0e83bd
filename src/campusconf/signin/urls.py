from django.urls import path

from campusconf.signin import views

app_name = "signin"

urlpatterns = [
    path("signin/", views.signin, name="signin"),
    path("signin/refused/", views.refused, name="refused"),
    path("signout/", views.signout, name="signout"),
    path("dev-login/", views.dev_login, name="dev_login"),
]

# The libraries reverse these names without a namespace, so they live outside "signin:".
external_urlpatterns = [
    path("oidc/authenticate/", views.OIDCStart.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", views.OIDCCallback.as_view(), name="oidc_authentication_callback"),
    path("saml2/login/", views.SamlLogin.as_view(), name="saml2_login"),
    path("saml2/acs/", views.SamlAcs.as_view(), name="saml2_acs"),
    path("saml2/metadata/", views.SamlMetadata.as_view(), name="saml2_metadata"),
]
