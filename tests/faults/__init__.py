"""The fault suite: drives the whole platform while breaking it, then proves nothing was lost or doubled."""
