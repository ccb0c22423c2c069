//! Code shared by every Storefleet function. (Filled in by the core issue.)
