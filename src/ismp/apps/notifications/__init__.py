"""Notifications and alert distribution (自動通知・警報配信): mail, inbox and webhooks, each stored with
its delivery state."""
