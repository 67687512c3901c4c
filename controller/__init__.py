"""Engine adapters: the AMI connection (Asterisk), normalized call events, call tracking."""
