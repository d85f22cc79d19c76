// The typed errors are the bottom layer: every layer throws them.
global using MLNetMerge.Errors;
