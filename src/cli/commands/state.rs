//! `pedestal state list | show ADDR | rm ADDR`.

use pedestal::ops::state::{self, StateRequest};
use pedestal::render;

use crate::cli::{EnvArgs, Exit, Global, StateCommand};

fn request(env: &EnvArgs) -> miette::Result<StateRequest> {
    Ok(StateRequest {
        env: env.env.clone(),
        vars: pedestal::ops::plan::PlanRequest::parse_vars(&env.vars).map_err(super::report)?,
        lock_timeout: std::time::Duration::ZERO,
    })
}

pub fn run(g: &Global, cmd: &StateCommand) -> miette::Result<Exit> {
    match cmd {
        StateCommand::List(env) => {
            for a in state::list(&g.dir, &request(env)?).map_err(super::report)? {
                println!("{a}");
            }
        }
        StateCommand::Show { env, address } => {
            let r = state::show(&g.dir, &request(env)?, address).map_err(super::report)?;
            print!("{}", render::human::state_resource(address, &r));
        }
        StateCommand::Rm { env, address } => {
            let removed = state::rm(&g.dir, &request(env)?, address).map_err(super::report)?;
            for a in &removed {
                println!("Removed {a}");
            }
            println!(
                "Successfully removed {} resource instance(s); the cloud was not touched.",
                removed.len()
            );
        }
    }
    Ok(Exit::Success)
}
