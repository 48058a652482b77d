return RlhfCore.Cli.RlhfCli.Start(args);
