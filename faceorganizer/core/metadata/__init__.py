"""Photo metadata the organizer reads and writes: XMP face regions, orientation, date taken.

Qt-free and free of the rest of the core: vision and library both use it.
"""
