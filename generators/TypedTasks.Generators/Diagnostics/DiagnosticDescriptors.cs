using Microsoft.CodeAnalysis;

namespace TypedTasks.Generators.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports. Each is an error (the task it names could not run),
/// except TT0021, a warning about something the build machine cannot decide for the worker.
/// Each id has a section in docs/diagnostics.md and a row in AnalyzerReleases.*.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    public const string Category = "TypedTasks";
    public const string HelpBase = "https://github.com/typedtasks/typedtasks/blob/main/docs/diagnostics.md#";

    public static readonly DiagnosticDescriptor GenericMethod = Create(
        "TT0001",
        "Task methods cannot be generic",
        "Task method '{0}' is generic; a message cannot say which type arguments to run it with. Remove the type parameters, or declare one [Task] method per concrete type that calls the generic one.");

    public static readonly DiagnosticDescriptor ByRefParameter = Create(
        "TT0002",
        "Task parameters cannot be ref, out or in",
        "Parameter '{0}' of task '{1}' is passed by reference ({2}); arguments travel as copies in a message. Pass it by value, and return what the caller needs as the task's result.");

    public static readonly DiagnosticDescriptor StackOnlyParameter = Create(
        "TT0003",
        "Task parameters cannot be pointers or ref structs",
        "Parameter '{0}' of task '{1}' has type '{2}', which lives on the stack and cannot be put in a message. Use an array, a List<T> or ReadOnlyMemory<T> instead.");

    public static readonly DiagnosticDescriptor AsyncVoid = Create(
        "TT0004",
        "Task methods cannot be async void",
        "Task method '{0}' is async void, so the worker cannot know when it ends or whether it failed. Return Task (or Task<T>) instead of void.");

    public static readonly DiagnosticDescriptor UnsupportedParameterType = Create(
        "TT0005",
        "Task parameter type cannot be carried by MessagePack",
        "Parameter '{0}' of task '{1}' cannot be carried in a message: {2}. Use primitives, strings, enums, Guid, DateTime, collections, or plain classes and records of such members.");

    public static readonly DiagnosticDescriptor UnsupportedReturnType = Create(
        "TT0006",
        "Task result type cannot be carried by MessagePack",
        "The result of task '{0}' cannot be stored: {1}. Return primitives, strings, enums, Guid, DateTime, collections, or plain classes and records of such members.");

    public static readonly DiagnosticDescriptor DuplicateTaskName = Create(
        "TT0007",
        "Two tasks have the same name",
        "The task name '{0}' is used by both '{1}' and '{2}'; a worker could not tell which to run. Give one of them another name with [Task(\"...\")].");

    public static readonly DiagnosticDescriptor ProxyNameCollision = Create(
        "TT0008",
        "Two tasks would get the same proxy",
        "Tasks '{1}' and '{2}' would both be Tasks.{0}. Rename one method, or set ProxyName on one [Task] attribute.");

    public static readonly DiagnosticDescriptor NegativeMaxRetries = Create(
        "TT0009",
        "MaxRetries cannot be negative",
        "MaxRetries of task '{0}' is {1}. Use 0 for no retries, or a positive number of retries.");

    public static readonly DiagnosticDescriptor InvalidTimeValue = Create(
        "TT0010",
        "Time value is not a positive TimeSpan",
        "{0} of task '{1}' is \"{2}\", which is not a positive TimeSpan in invariant form. Write it as \"hh:mm:ss\" or \"d.hh:mm:ss.fff\", such as \"00:02:00\" for two minutes.");

    public static readonly DiagnosticDescriptor InvalidQueueName = Create(
        "TT0011",
        "Queue name is not valid",
        "The queue of task '{0}' is \"{1}\". A queue name is 1 to 200 characters without white space, braces or '@', such as \"default\" or \"reports\".");

    public static readonly DiagnosticDescriptor InvalidTaskName = Create(
        "TT0012",
        "Task name is not valid",
        "The name of task '{0}' is \"{1}\". A task name is 1 to 200 characters without white space, such as \"reports.build\"; omit it for the default Namespace.Type.Method.");

    public static readonly DiagnosticDescriptor UnreachableContainingType = Create(
        "TT0013",
        "Generated code cannot reach the task's class",
        "Task '{0}' is declared in '{1}', which {2}. Declare tasks in non-generic classes that are public or internal, nested only in such classes.");

    public static readonly DiagnosticDescriptor InaccessibleMethod = Create(
        "TT0014",
        "Task method must be public or internal",
        "Task method '{0}' is {1}, so the generated dispatch table cannot call it. Make it public or internal.");

    public static readonly DiagnosticDescriptor InstanceTaskNotConstructible = Create(
        "TT0015",
        "Instance task's class cannot be created for a run",
        "Task method '{0}' is an instance method of '{1}', which {2}; the worker creates the class from DI for each run. Make the method static, or declare it in a non-abstract class.");

    public static readonly DiagnosticDescriptor InvalidProxyName = Create(
        "TT0016",
        "Proxy name is not valid",
        "ProxyName of task '{0}' is \"{1}\", which is not a C# identifier that can name a member of Tasks. Use a name such as \"AddNumbers\".");

    public static readonly DiagnosticDescriptor NoUsableConstructor = Create(
        "TT0017",
        "Task argument or result type has no constructor MessagePack can use",
        "{0} of task '{1}' cannot be read back from a message: {2}. Add a public parameterless constructor, or a public constructor whose parameters each match a public property or field by name and type, or mark one constructor [MessagePack.SerializationConstructor].");

    public static readonly DiagnosticDescriptor AbstractWithoutUnion = Create(
        "TT0018",
        "Task argument or result type is an interface or abstract class without [Union]",
        "{0} of task '{1}' cannot be read back from a message: {2} without [MessagePack.Union] attributes, so the reader cannot know which class to create. Declare a concrete class or record instead, or mark your own interface or abstract class with [MessagePack.Union(0, typeof(Implementation))], one per implementation.");

    public static readonly DiagnosticDescriptor InvalidCron = Create(
        "TT0019",
        "Cron expression is not valid",
        "The cron expression of periodic task '{0}' is \"{1}\": {2}. Write 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, such as \"0 3 * * *\" for 03:00 daily.");

    public static readonly DiagnosticDescriptor PeriodicWithArguments = Create(
        "TT0020",
        "Periodic task has parameters a schedule cannot supply",
        "Periodic task '{0}' has parameter '{1}' of type '{2}', which no schedule can supply. A [Periodic] task takes only a TaskContext and a CancellationToken; to run a task with arguments on a schedule, use ITaskSchedules.UpsertAsync with Tasks.X.Call(arguments).");

    public static readonly DiagnosticDescriptor UnknownTimeZone = Create(
        "TT0021",
        "Time zone is not an IANA zone id",
        "The time zone of periodic task '{0}' is \"{1}\", which is not a zone id of the IANA time zone database; a worker that does not know it will not fire the task. Use an id such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\".",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor SecondProgress = Create(
        "TT0022",
        "Task has more than one IProgress<T> parameter",
        "Task '{0}' has a second progress parameter '{1}'. A run has one progress value, which callers read as one type through Tasks.X.Progress: declare one IProgress<T> parameter, with a T that carries everything the task reports.");

    public static readonly DiagnosticDescriptor UniqueByUnknownParameter = Create(
        "TT0023",
        "UniqueBy names no argument the message carries",
        "UniqueBy of task '{0}' names '{1}', {2}. Name parameters the caller passes, with nameof(parameter), so that two enqueues with the same values are the same task.");

    public static readonly DiagnosticDescriptor UniqueByWithoutUniqueFor = Create(
        "TT0024",
        "UniqueBy without UniqueFor",
        "Task '{0}' has UniqueBy but no UniqueFor. A unique task's lock needs a bound, so that a lost task cannot block its key for good: add UniqueFor = \"00:10:00\" (the longest the first task may hold its key), or remove UniqueBy.");

    public static readonly DiagnosticDescriptor UniqueByUnstableType = Create(
        "TT0025",
        "Unique argument has no stable encoding",
        "Task '{0}' is unique by parameter '{1}' of type '{2}', whose encoding may differ between two calls with equal values, so that equal enqueues would not be found the same. Make a task unique by primitives, strings, Guids, enums, DateTime, DateTimeOffset, decimals, or arrays of those: name such parameters in UniqueBy.");

    public static readonly DiagnosticDescriptor InvalidRateLimit = Create(
        "TT0026",
        "RateLimit is not a count per second, minute or hour",
        "RateLimit of task '{0}' is \"{1}\", which is not N/s, N/m or N/h with N a whole number from 1 to 1,000,000. Write it as \"100/s\", \"20/m\" or \"500/h\".");

    public static readonly DiagnosticDescriptor LimitKeyUnknownParameter = Create(
        "TT0027",
        "Limit key names no argument the message carries",
        "{0} of task '{1}' names '{2}', {3}. Name a parameter the caller passes, with nameof(parameter), so that each of its values is limited on its own.");

    public static readonly DiagnosticDescriptor LimitKeyWithoutLimit = Create(
        "TT0028",
        "Limit key without its limit",
        "Task '{0}' has {1} but no {2}, so there is no limit to count per key. Add {2} (such as {3}), or remove {1}.");

    public static readonly DiagnosticDescriptor NegativeMaxConcurrency = Create(
        "TT0029",
        "MaxConcurrency cannot be negative",
        "MaxConcurrency of task '{0}' is {1}. Use 0 for no limit, or how many runs of the task may run at once.");

    public static readonly DiagnosticDescriptor LimitKeyUnstableType = Create(
        "TT0030",
        "Limit key argument has no stable encoding",
        "{0} of task '{1}' is parameter '{2}' of type '{3}', whose encoding may differ between two calls with equal values, so that equal values would be counted apart. Key a limit by a primitive, string, Guid, enum, DateTime, DateTimeOffset, decimal, or an array of those.");
    public static readonly DiagnosticDescriptor BadCeleryDeclaration = Create(
        "TT0031",
        "Celery task declaration is not a static partial method returning Task<T>",
        "Celery task '{0}' cannot be proxied: {1}. Declare it as a body-less 'public static partial Task<TResult> Name(arguments);' in a top-level 'static partial class': the generator writes its body and CeleryTasks.{0}.");

    public static readonly DiagnosticDescriptor InvalidCeleryName = Create(
        "TT0032",
        "Celery task name is empty",
        "Celery task '{0}' has an empty name. Give the name the Python app registers the task under, such as [CeleryTask(\"proj.tasks.add\")].");

    public static DiagnosticDescriptor[] All =>
    [
        GenericMethod, ByRefParameter, StackOnlyParameter, AsyncVoid, UnsupportedParameterType, UnsupportedReturnType,
        DuplicateTaskName, ProxyNameCollision, NegativeMaxRetries, InvalidTimeValue, InvalidQueueName, InvalidTaskName,
        UnreachableContainingType, InaccessibleMethod, InstanceTaskNotConstructible, InvalidProxyName, NoUsableConstructor,
        AbstractWithoutUnion, InvalidCron, PeriodicWithArguments, UnknownTimeZone, SecondProgress, UniqueByUnknownParameter,
        UniqueByWithoutUniqueFor, UniqueByUnstableType, InvalidRateLimit, LimitKeyUnknownParameter, LimitKeyWithoutLimit,
        NegativeMaxConcurrency, LimitKeyUnstableType, BadCeleryDeclaration, InvalidCeleryName,
    ];

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity = DiagnosticSeverity.Error)
        => new(id, title, message, Category, severity, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());
}
