#!/usr/bin/env python
from haven.cli import main

if __name__ == "__main__":
    main()
