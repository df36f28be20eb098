"""Webhooks as code: the file format (`file`) and the plan that makes a server match a file (`plan`)."""
