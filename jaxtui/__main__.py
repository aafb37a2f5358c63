from jaxtui.cli.main import main

raise SystemExit(main())
