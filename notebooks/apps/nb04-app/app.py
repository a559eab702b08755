"""The app of exercise 2 in notebook 04."""
print("nb04-app works")
