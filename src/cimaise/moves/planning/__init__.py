"""Planning a transfer: addressing (a target shelf for every work) and packing (which works go
in which crate). ``addressing`` and ``packing`` are pure and fast; ``services`` and
``selectors`` read and write the database around them."""
