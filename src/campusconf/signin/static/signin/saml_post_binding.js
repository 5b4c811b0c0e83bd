// Sends the SAML request on to the IdP at once; the button stays for browsers without script.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("saml-post-binding");
  if (form) form.submit();
});
