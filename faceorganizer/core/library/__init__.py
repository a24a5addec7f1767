"""What a library does: sync a folder, scan it, regroup people, edits and undo, export."""
