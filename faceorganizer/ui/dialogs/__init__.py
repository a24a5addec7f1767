"""The app's dialogs: regroup, export, review, split, move to, photo viewer."""
