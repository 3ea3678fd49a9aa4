using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace TypedTasks.Generators.Tests;

/// <summary>
/// Compares generated text with a committed file <c>Snapshots/Class.Test#hint.verified.cs</c>
/// (Verify's naming). On a mismatch it writes <c>.received.cs</c> beside it and fails; set
/// <c>TYPEDTASKS_ACCEPT_SNAPSHOTS=1</c> to write the received text as the new verified file.
/// </summary>
internal static class Snapshot
{
    public static void Match(string actual, string testClass, string testName, string hintName, [CallerFilePath] string callerFile = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots");
        var stem = $"{testClass}.{testName}#{Path.GetFileNameWithoutExtension(hintName)}";
        var verified = Path.Combine(directory, stem + ".verified.cs");
        var received = Path.Combine(directory, stem + ".received.cs");
        actual = actual.Replace("\r\n", "\n");

        if (Environment.GetEnvironmentVariable("TYPEDTASKS_ACCEPT_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }

        var expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : null;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        Assert.Fail(expected is null
            ? $"No verified snapshot {verified}. The output is in {received}; review it and rerun with TYPEDTASKS_ACCEPT_SNAPSHOTS=1 to accept."
            : $"Generated code differs from {verified}. See {received}; rerun with TYPEDTASKS_ACCEPT_SNAPSHOTS=1 to accept the change.");
    }
}
