"""The live board of a transfer programme, under /custody/board/."""
