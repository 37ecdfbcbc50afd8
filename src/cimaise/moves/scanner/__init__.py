"""The handheld scanner page (issue 4, item 6): scan a place then works or crates, or a crate then
its works; works offline (service worker, IndexedDB queue) and uploads through EPCIS capture."""
