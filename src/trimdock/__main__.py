from trimdock.cli.main import main

main()
