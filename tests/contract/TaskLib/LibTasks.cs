using TypedTasks;

namespace TaskLib;

public static class LibTasks
{
    [Task("lib.multiply")]
    public static long Multiply(int x, int y) => (long)x * y;
}
