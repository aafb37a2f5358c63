from jaxtui.cli import main

raise SystemExit(main())
