"""Running the platform in production: spark-submit arguments, EMR Serverless packaging and job runs, the
Step Functions schedule. Terraform (`infra/`) and the images (`docker/`) consume what this package generates,
so there is one definition of each job's Spark parameters.
"""
