global using MLNetMerge.Errors;
