using System.CommandLine;
using RlhfCore.Cli.Commands;

var root = new RootCommand("rlhf — RlhfCore, an RLHF training engine with explicit kernels on CPU and CUDA");
root.Add(SftCommand.Create());
root.Add(PpoCommand.Create());
root.Add(DpoCommand.Create());
root.Add(BestOfNCommand.Create());
root.Add(RewardCommand.Create());
root.Add(GenerateCommand.Create());
root.Add(EvalCommand.Create());
root.Add(InfoCommand.Create());
root.Add(BenchCommand.Create());
root.Add(SelfTestCommand.Create());
root.Add(LabelCommand.Create());
root.Add(PipelineCommand.Create());
root.Add(PipelineCommand.CreateDemo());
root.Add(OveroptCommand.Create());
return await root.Parse(args).InvokeAsync();
