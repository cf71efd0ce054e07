"""SerwerSMS.pl HTTPS API v2: messages/send_rcs, reports and view, and its webhook notifications."""
