"""What every lab node adds to the site it runs: settings, the node header, /health, set-up commands."""
