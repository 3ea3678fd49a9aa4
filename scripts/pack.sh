#!/usr/bin/env bash
# Packs every TypedTasks package into one local folder, so that a project outside this repository
# can reference them before (or instead of) a published release:
#   TypedTasks            the runtime, with the source generator inside it
#   TypedTasks.Redis      the Redis broker and result backend
#   TypedTasks.Celery     Celery interoperation: proxies for Python tasks, a worker for Celery queues
#   TypedTasks.Dashboard  the web dashboard (app.MapTypedTasksDashboard("/tasks"))
#   TypedTasks.Cli        the `typedtasks` .NET tool
#   TypedTasks.Templates  `dotnet new typedtasks-worker` and `dotnet new typedtasks-webapi`
#
# Usage: bash scripts/pack.sh [--output DIR] [--version VERSION]
#   --output   where the .nupkg files go (default: artifacts/packages)
#   --version  the package version (default: the repository's, from Directory.Build.props)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
output="$root/artifacts/packages"
version=""

while [ $# -gt 0 ]; do
  case "$1" in
    --output) [ $# -ge 2 ] || { echo "pack.sh: --output needs a folder" >&2; exit 2; }; output="$2"; shift 2 ;;
    --version) [ $# -ge 2 ] || { echo "pack.sh: --version needs a version such as 0.1.0-dev.1" >&2; exit 2; }; version="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "pack.sh: unknown argument '$1' (expected --output DIR or --version VERSION)" >&2; exit 2 ;;
  esac
done

projects=(
  src/TypedTasks/TypedTasks.csproj
  src/TypedTasks.Redis/TypedTasks.Redis.csproj
  src/TypedTasks.Celery/TypedTasks.Celery.csproj
  src/TypedTasks.Dashboard/TypedTasks.Dashboard.csproj
  src/TypedTasks.Cli/TypedTasks.Cli.csproj
  templates/TypedTasks.Templates.csproj
)
ids=(TypedTasks TypedTasks.Redis TypedTasks.Celery TypedTasks.Dashboard TypedTasks.Cli TypedTasks.Templates)

if [ -z "$version" ]; then
  version="$(dotnet msbuild "$root/src/TypedTasks/TypedTasks.csproj" -getProperty:Version -nologo)"
fi

mkdir -p "$output"
output="$(cd "$output" && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

for id in "${ids[@]}"; do
  rm -f "$output/$id.$version.nupkg"
done
for project in "${projects[@]}"; do
  dotnet pack "$root/$project" -c Release -o "$output" -p:Version="$version" -v quiet -nologo
done

# NuGet never re-reads a version it has already extracted: without this, a project restored
# against an earlier pack of the same version would keep the old packages.
cache="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')"
if [ -n "$cache" ]; then
  for id in "${ids[@]}"; do
    stale="$cache/$(echo "$id" | tr '[:upper:]' '[:lower:]')/$version"
    if [ -d "$stale" ]; then
      rm -rf "$stale"
      echo "Removed $id $version from the NuGet cache ($stale), so that the next restore takes the new package."
    fi
  done
fi

echo
echo "Packed TypedTasks $version into $output:"
for id in "${ids[@]}"; do
  echo "  $id.$version.nupkg"
done
echo
echo "Add the folder as a package source (once; or see docs/getting-started.md for a nuget.config):"
echo "  dotnet nuget add source \"$output\" --name typedtasks-local"
