"""HTTP plumbing shared by every router: who is calling (auth), body parsing, shared schemas."""
