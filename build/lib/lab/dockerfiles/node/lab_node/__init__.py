"""What every lab node adds to the site it runs: settings, the lab's headers, /__lab__/ URLs, set-up commands."""
