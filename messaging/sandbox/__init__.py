"""Provider sandbox: a stand-alone HTTP server that speaks Meta's WhatsApp Cloud API
and Twilio's Messages API and posts signed webhooks back to the app.

Run it with `python -m messaging.sandbox --help`. It imports no Django code, so it
starts in a fraction of a second and can run beside any settings module.
"""
