"""The embedded local stack: AWS emulator, provisioning, and one server for everything."""
